/**
 * The agent's service log: plain lines for a terminal (time and message), or
 * one JSON object per line for a log pipeline (pino: time, level, msg and
 * the fields given), chosen with `--log-format` or $SKYBRIDGE_LOG_FORMAT.
 * Known secret fields are redacted; no password or hash is ever passed here.
 */
import pino from 'pino';

export type LogFormat = 'text' | 'json';

export interface AgentLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function agentLog(format: LogFormat): AgentLog {
  if (format === 'json') {
    const logger = pino({
      base: { service: 'skybridge-connect' },
      redact: { paths: ['password', '*.password', 'credential', '*.credential', 'secret', '*.secret'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    }, pino.destination({ fd: 1, sync: true }));
    return {
      info: (msg, fields) => logger.info(fields ?? {}, msg),
      warn: (msg, fields) => logger.warn(fields ?? {}, msg),
      error: (msg, fields) => logger.error(fields ?? {}, msg),
    };
  }
  const line = (stream: NodeJS.WriteStream, prefix: string) => (msg: string) => stream.write(`${new Date().toISOString()} ${prefix}${msg}\n`);
  return { info: line(process.stdout, ''), warn: line(process.stderr, 'skybridge: '), error: line(process.stderr, 'skybridge: ') };
}

export function logFormatFrom(value: string | undefined): LogFormat {
  const v = (value ?? process.env.SKYBRIDGE_LOG_FORMAT ?? 'text').toLowerCase();
  if (v !== 'text' && v !== 'json') throw new Error(`--log-format must be text or json, not ${JSON.stringify(value)}`);
  return v;
}
