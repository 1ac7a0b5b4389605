/** Baseline: a bare Koa 3 hello-world JSON server (no middleware at all). */
import Koa from 'koa';
import { createServer } from 'node:http';

const app = new Koa();
app.use((ctx) => {
  ctx.body = { status: 'ok' };
});
const server = createServer(app.callback());
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.({ ready: true }));
