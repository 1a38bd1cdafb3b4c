/**
 * @module server/request-log
 * One log line per request, `{ reqId, method, url, status, responseTime }` ('request completed',
 * or 'request aborted' when the client went away first), at info, warn (4xx) or error (5xx), and
 * the request id echoed in `X-Request-Id` (the client's when it sent a sane one).
 *
 * Why not pino-http: it builds a child logger for every request and serialises the request's and
 * response's headers into every line; under load that was measurable work per request (see
 * docs/server-profile.md). Here a request costs an id and one small line; `req.log` (a child
 * logger with the request id, as pino-http gave) is made only when a handler asks for it.
 */
import { randomUUID } from 'node:crypto';
import type express from 'express';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type {} from 'pino-http'; // its typing of req.id and req.log, which this module provides
import type { PhaseTimings } from './phase-timings.js';

/** Request ids a client may choose: word characters, dots and dashes, 1–128 of them. */
const CLIENT_ID = /^[\w.-]{1,128}$/;

/**
 * Gives every request of `app` a lazily made `req.log`, and returns the middleware that assigns
 * ids and writes the lines. `phases` (when timing) gets the time spent logging each phase-timed (classify) request.
 */
export function requestLogger(app: express.Express, logger: Logger, phases?: PhaseTimings): RequestHandler {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request) {
      const log = logger.child({ reqId: this.id });
      Object.defineProperty(this, 'log', { value: log, writable: true, configurable: true });
      return log;
    },
    set(this: Request, value: Logger) {
      Object.defineProperty(this, 'log', { value, writable: true, configurable: true });
    },
  });
  return (req, res, next) => {
    const start = performance.now();
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && CLIENT_ID.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    res.once('close', () => {
      const t = performance.now();
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (logger.isLevelEnabled(level)) {
        logger[level]({ reqId: id, method: req.method, url: req.originalUrl, status, responseTime: Math.round((t - start) * 1000) / 1000 }, res.writableFinished ? 'request completed' : 'request aborted');
      }
      // Only classify requests are phase-timed; a probe or a scrape must not count as one.
      if (phases && res.locals.phaseTimed === true) phases.add('log', performance.now() - t);
    });
    next();
  };
}
