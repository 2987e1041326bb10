#!/usr/bin/env bash
# Writes MovieLens latest-small (the 2016 edition: 100,004 ratings, 671 users, 9,066 films, with genres)
# to DIR in the official zip's format (ratings.csv, movies.csv), from the copy R's dslabs package ships
# (Debian: r-cran-dslabs). GroupLens' licence keeps the data out of this repository; the benches read it
# from MOVIELENS_SMALL=DIR (bench/_movielens.ts).
#   bash scripts/movielens-small.sh ~/ml-latest-small      (installs r-cran-dslabs when missing: root)
set -euo pipefail
dir="${1:?usage: scripts/movielens-small.sh DIR}"
if ! Rscript -e 'library(dslabs)' >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq r-cran-dslabs >/dev/null
fi
mkdir -p "$dir"
cd "$dir"
Rscript -e '
library(dslabs); data(movielens)
write.csv(movielens[, c("userId", "movieId", "rating", "timestamp")], "ratings.csv", row.names = FALSE, quote = FALSE)
films <- unique(movielens[, c("movieId", "title", "genres")])
write.csv(films[order(films$movieId), ], "movies.csv", row.names = FALSE)
'
echo "wrote $(($(wc -l < ratings.csv) - 1)) ratings and $(($(wc -l < movies.csv) - 1)) films to $dir"
