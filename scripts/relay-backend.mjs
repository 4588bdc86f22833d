// A sample app backend for the relay (docs/relay.md): verifies each delivery with the
// `standardwebhooks` library and prints it. `make dev` starts it; README.md shows it.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const wh = new Webhook(process.env.WEBHOOK_FORWARD_SECRET); // whsec_…
createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    try {
      const event = wh.verify(body, req.headers); // throws unless signed with the secret
      console.log(req.headers['webhook-id'], req.headers['x-callkit-source'], event.CallbackCommand ?? event.EventType);
      res.writeHead(204).end();
    } catch (err) {
      console.log(`refused: ${err.message}`);
      res.writeHead(400).end();
    }
  });
}).listen(Number(process.env.PORT ?? 8791), '127.0.0.1');
