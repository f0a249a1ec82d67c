import { NonRetriableError } from '../errors.ts';
import type { ConnectionAccess } from './define-action.ts';

/** Where no database is at hand, a connection cannot be read; say where it can. */
export const NO_CONNECTIONS: ConnectionAccess = {
  fetch: (name) =>
    Promise.reject(
      new NonRetriableError(
        `connection "${name}" is not available here: connections live in the database (baton serve, baton worker, or baton run with DATABASE_URL)`,
      ),
    ),
};
