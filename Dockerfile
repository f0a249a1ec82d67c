# Baton on the official Bun image, running as the image's non-root `bun` user.
FROM oven/bun:1.4-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Bun reads npm's package-lock.json and installs the versions pinned there; production only.
RUN bun install --production --ignore-scripts

FROM oven/bun:1.4-slim
WORKDIR /app
ENV NODE_ENV=production BATON_DATA_DIR=/data HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bunfig.toml tsconfig.json ./
COPY src ./src
COPY actions ./actions
COPY workflows ./workflows
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME /data
EXPOSE 3000
ENTRYPOINT ["bun", "src/cli.ts"]
# Run with an init process (`docker run --init`) so orphans of shell tasks are reaped.
CMD ["serve"]
