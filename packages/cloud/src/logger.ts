import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets never reach a log: request bodies are not
 * logged, and these paths are redacted wherever they appear.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.SKYBRIDGE_LOG_LEVEL ?? 'info',
      base: { service: 'skybridge-cloud' },
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'clientSecret', '*.clientSecret', 'registrationToken', '*.registrationToken', 'authorization', '*.authorization', 'req.headers.authorization'],
        censor: '[redacted]',
      },
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 2, sync: false }),
  );
}
