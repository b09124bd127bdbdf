// A real SMTP server on loopback (the `smtp-server` package) for the mail tests: it parses what it receives with
// `mailparser`, and can be told to refuse (a 4xx or 5xx answer) or be closed to play a server that is down.
import { type AddressObject, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  messageId: string;
}

export interface TestSmtp {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** null: accept; otherwise the reply code every message gets (451 temporary, 550 permanent). */
  refuseWith: number | null;
  close: () => Promise<void>;
}

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address ?? ''));

export async function startSmtp(port = 0): Promise<TestSmtp> {
  const smtp: TestSmtp = { url: '', port: 0, received: [], refuseWith: null, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          if (smtp.refuseWith) {
            const err = Object.assign(new Error(smtp.refuseWith >= 500 ? 'mailbox unavailable' : 'try again later'), {
              responseCode: smtp.refuseWith,
            });
            return callback(err);
          }
          smtp.received.push({
            to: addresses(mail.to),
            from: addresses(mail.from)[0] ?? '',
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            messageId: mail.messageId ?? '',
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  smtp.port = (server.server.address() as { port: number }).port;
  smtp.url = `smtp://127.0.0.1:${smtp.port}`;
  smtp.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return smtp;
}
