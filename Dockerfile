# Training container for SageMaker (the Train state of the retraining pipeline).
#
# SageMaker contract: hyperparameters in /opt/ml/input/config/hyperparameters.json, the "train"
# channel in /opt/ml/input/data/train, the model written to /opt/ml/model, a failure reason to
# /opt/ml/output/failure. SageMaker runs the image as `docker run <image> train`; the entrypoint
# ignores that argument.
#
# Two stages: the first installs the repository's runtime dependencies and bundles the entrypoint
# and its worker thread with esbuild (lib/infra/training-bundle.ts); the image itself holds only
# Node.js and that bundle: no npm install, no CDK, no esbuild, no tsx, no dev dependencies.
#
# Base pinned by digest (node 22.14.0 on Debian bookworm, slim; the multi-platform index digest, as
# pinned in public Renovate-managed Dockerfiles). Update tag and digest together.
ARG NODE_IMAGE=node:22.14.0-bookworm-slim@sha256:bac8ff0b5302b06924a5e288fb4ceecef9c8bb0bb92515985d2efdc3a2447052

FROM ${NODE_IMAGE} AS bundle
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY lib ./lib
RUN node --import tsx lib/infra/training-bundle.ts /bundle

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /opt/program
COPY --from=bundle /bundle/ ./
# The base image's unprivileged `node` user (uid 1000). /opt/ml is created owned by it, so the
# directories SageMaker populates start writable by the training process.
RUN mkdir -p /opt/ml/input /opt/ml/model /opt/ml/output && chown -R node:node /opt/ml
USER node

ENTRYPOINT ["node", "/opt/program/sagemaker-entrypoint.mjs"]
