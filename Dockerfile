# mcp-gateway container image.
#   docker build -t mcp-gateway .
#   docker run -p 8080:8080 -v $PWD/config.json:/etc/mcp-gateway/config.json:ro mcp-gateway
# The config must bind 0.0.0.0 (server.host) to be reachable from outside the container.

# Build stage: compile TypeScript, then keep only the production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --ignore-scripts \
 && npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev

# Runtime stage: Node, the sandbox tools (prlimit and setpriv from util-linux, bubblewrap for
# allowed_paths) and tini as PID 1, so that orphaned grandchildren of MCP servers are reaped.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mcp-gateway \
 && useradd --system --uid 10001 --gid mcp-gateway --home-dir /var/lib/mcp-gateway --create-home --shell /usr/sbin/nologin mcp-gateway \
 && mkdir -p /etc/mcp-gateway
WORKDIR /opt/mcp-gateway
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY bin ./bin
COPY demo ./demo

# Session directories (session.sandbox_dir, default ./sandbox) live under the user's home.
USER mcp-gateway
WORKDIR /var/lib/mcp-gateway
ENV NODE_ENV=production
EXPOSE 8080
# Plain HTTP on the configured port (MCP_PORT when the config uses "${MCP_PORT|8080}").
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MCP_PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/mcp-gateway/bin/mcp-gateway.js"]
CMD ["-c", "/etc/mcp-gateway/config.json"]
