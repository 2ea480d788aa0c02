// A small static file server for the built page: correct MIME types (application/wasm lets
// the browser compile while downloading), no caching, 127.0.0.1 only, nothing outside root.
// Used by e2e.test.mjs and scripts/serve_web.sh:
//   node static_server.mjs <root> [port]      (port 0 = any free port)
import { createServer } from "node:http";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".wasm": "application/wasm",
  ".json": "application/json", ".data": "application/octet-stream",
  ".png": "image/png", ".css": "text/css", ".txt": "text/plain; charset=utf-8",
};

// extra: optional map from URL path ("/bad-model/config.json") to a string or Buffer body,
// served before the file system (tests use it for deliberately broken files).
export function startServer(root, { port = 0, host = "127.0.0.1", extra = {}, log = false } = {}) {
  root = path.resolve(root);
  const server = createServer(async (req, res) => {
    const send = (code, body, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      return send(400, "bad request\n");
    }
    if (log) console.log(`${req.method} ${urlPath}`);
    if (urlPath in extra) {
      const body = extra[urlPath];
      return send(200, body, TYPES[path.extname(urlPath)] || "application/octet-stream");
    }
    if (urlPath.endsWith("/")) urlPath += "index.html";
    const file = path.resolve(root, "." + urlPath);
    if (file !== root && !file.startsWith(root + path.sep)) return send(403, "forbidden\n");
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) return send(404, "not found\n");
      res.writeHead(200, {
        "Content-Type": TYPES[path.extname(file)] || "application/octet-stream",
        "Content-Length": st.size, "Cache-Control": "no-store",
      });
      createReadStream(file).pipe(res);
    } catch {
      send(404, "not found\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve({ server, url: `http://${host}:${server.address().port}/` }));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [root, port = "8080"] = process.argv.slice(2);
  if (!root) {
    console.error("usage: node static_server.mjs <root> [port]");
    process.exit(2);
  }
  const { url } = await startServer(root, { port: Number(port), log: true });
  console.log(`Serving ${path.resolve(root)}\nOpen ${url} in a browser (Ctrl-C stops).`);
}
