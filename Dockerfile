# syntax=docker/dockerfile:1
# Pontis node image: build with dev dependencies, run with production ones only, as non-root.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# On SIGTERM (docker stop, a rolling update) the node reports not ready for 3 s while still
# serving, then drains requests under way for up to 10 s: keep docker's stop timeout above 13 s.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 PONTIS_SHUTDOWN_DELAY_MS=3000 PONTIS_DRAIN_TIMEOUT_MS=10000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY seed ./seed
COPY profiles ./profiles
COPY terminology ./terminology
# The portal's page templates and assets are read at run time (PONTIS_PORTAL_PORT).
COPY src/portal ./src/portal
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
# Readiness, not liveness: the store answers, profiles, trust list and peer directory are loaded.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
