// A real SMTP server for the browser suite: Portcullis delivers its emails here over SMTP
// (`PORTCULLIS_SMTP_URL=smtp://127.0.0.1:PORT?tls=none`), as it would to a company's relay, and
// each message it accepts is parsed and written to MAIL_DIR as one JSON file, which the tests
// read as the recipient's mailbox (`deliveredMail` in support.mjs).
//
// Started by `cargo xtask browser` (xtask/src/stack.rs) with SMTP_PORT and MAIL_DIR; listens on
// 127.0.0.1 only and stops with the stack.

import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const port = Number(process.env.SMTP_PORT);
const dir = process.env.MAIL_DIR;
if (!port || !dir) {
  console.error('smtp-sink: SMTP_PORT and MAIL_DIR are required');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });

let received = 0;

const server = new SMTPServer({
  // A local sink: plain text, no credentials (the server refuses tls=none with a password).
  secure: false,
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  banner: 'portcullis browser-suite sink',
  size: 1024 * 1024,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        received += 1;
        const message = {
          envelope: {
            from: session.envelope.mailFrom?.address ?? null,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          },
          from: mail.from?.text ?? null,
          to: mail.to?.text ?? null,
          subject: mail.subject ?? '',
          messageId: mail.messageId ?? null,
          date: mail.date?.toISOString() ?? null,
          text: mail.text ?? '',
          html: typeof mail.html === 'string' ? mail.html : '',
          receivedAt: new Date().toISOString(),
        };
        // Written whole, then renamed: a reader never sees half a message.
        const name = `${String(received).padStart(6, '0')}.json`;
        const partial = join(dir, `.${name}.partial`);
        writeFileSync(partial, JSON.stringify(message, null, 2));
        renameSync(partial, join(dir, name));
        console.log(`smtp-sink: message ${received} to ${message.envelope.to.join(', ')}: ${message.subject}`);
        callback();
      })
      .catch((error) => {
        console.error(`smtp-sink: unreadable message: ${error.message}`);
        callback(new Error('message not understood'));
      });
  },
});

server.on('error', (error) => console.error(`smtp-sink: ${error.message}`));
server.listen(port, '127.0.0.1', () => console.log(`smtp-sink: listening on 127.0.0.1:${port}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
