// The email format's transport: one nodemailer SMTP transport from APIGOV_SMTP_URL (smtp:// or smtps://, with
// credentials in the URL if the server wants them) and the sender APIGOV_SMTP_FROM.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Envelope } from './formats.js';
import { renderEmail } from './formats.js';
import type { SendResult } from './send.js';

let transport: { url: string; t: Transporter } | undefined;

export async function sendEmail(mailto: string, e: Envelope, headers: Record<string, string>): Promise<SendResult> {
  const url = process.env.APIGOV_SMTP_URL;
  if (url === undefined || url === '') return { error: 'no SMTP server: set APIGOV_SMTP_URL (smtp://host:port) for the email format' };
  if (transport?.url !== url) transport = { url, t: nodemailer.createTransport(url) };
  const to = mailto.replace(/^mailto:/, '').split(',');
  const mail = renderEmail(e);
  try {
    await transport.t.sendMail({ from: process.env.APIGOV_SMTP_FROM ?? 'apigov <apigov@localhost>', to, subject: mail.subject, text: mail.text, html: mail.html, headers });
    return { status: 250, ok: true };
  } catch (err) {
    const code = (err as { responseCode?: number }).responseCode;
    return { ...(code !== undefined && { status: code }), error: (err as Error).message };
  }
}
