# Training container for SageMaker (the Train state of the retraining pipeline).
#
# SageMaker contract: hyperparameters in /opt/ml/input/config/hyperparameters.json, the "train"
# channel in /opt/ml/input/data/train, the model written to /opt/ml/model, a failure reason to
# /opt/ml/output/failure. SageMaker runs the image as `docker run <image> train`; the entrypoint
# ignores that argument.
FROM node:22-slim

ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /opt/program

# Dependencies first, for layer caching. tsx is a runtime dependency, so --omit=dev keeps it.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY lib ./lib

# Runs as root: SageMaker mounts /opt/ml/model and /opt/ml/output owned by root.

ENTRYPOINT ["node", "--import", "tsx", "lib/train/sagemaker-entrypoint.ts"]
