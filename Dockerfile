# Production image: compiled JavaScript (npm run build → dist/), production dependencies only, run by
# `node` as the unprivileged `node` user. No TypeScript transpiler runs in production.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY api api
COPY config config
COPY processors processors
COPY producers producers
COPY projections projections
COPY runtime runtime
COPY schemas schemas
COPY simulator simulator
COPY sql sql
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The embedded default keeps its database here; production roles use DATABASE_URL instead.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
CMD ["node", "dist/bin/kombo-sync.js", "all"]
