import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configProblem, loadConfig, maskUserinfo, secretsFromEnv } from '../../src/config.ts';
import { formatDuration } from '../../src/util/duration.ts';

const errorOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('has working defaults on an empty environment', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: '/srv/app/.baton',
      filesDir: '/srv/app/.baton/files',
      workflowsDir: '/srv/app/workflows',
      httpAllow: [],
      outputLimitBytes: 256 * 1024,
      bodyLimitBytes: 1024 * 1024,
    });
  });

  it('has scheduler and poller settings with defaults, as durations', () => {
    expect(loadConfig({})).toMatchObject({
      schedulerTickMs: 1000,
      scheduleGraceMs: 2000,
      pollTickMs: 1000,
      pollLeaseMs: 30_000,
      pollMaxBackoffMs: 300_000,
    });
    expect(loadConfig({ BATON_SCHEDULE_GRACE: '1m', BATON_POLL_LEASE: '10s' })).toMatchObject({
      scheduleGraceMs: 60_000,
      pollLeaseMs: 10_000,
    });
    expect(errorOf({ BATON_SCHEDULER_TICK: 'often' })).toBe(
      'BATON_SCHEDULER_TICK: "often" is not a duration; write e.g. 30s or 5m (got "often")',
    );
  });

  it('binds to all interfaces only when tokens are configured', () => {
    expect(loadConfig({ BATON_API_TOKENS: 'a,b' }).host).toBe('0.0.0.0');
    expect(loadConfig({ BATON_API_TOKENS: 'a, b' }).apiTokens).toEqual(['a', 'b']);
  });

  it('parses lists, sizes and durations', () => {
    const c = loadConfig({
      BATON_HTTP_ALLOW: '127.0.0.1, 10.0.0.0/8',
      BATON_OUTPUT_LIMIT: '1mb',
      BATON_GIT_REMOTE: 'git@example.com:a/b.git',
      BATON_GIT_INTERVAL: '30s',
    });
    expect(c.httpAllow).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(c.outputLimitBytes).toBe(1024 * 1024);
    expect(c.git).toEqual({
      remote: 'git@example.com:a/b.git',
      branch: 'main',
      intervalMs: 30_000,
      dir: resolve(c.dataDir, 'git'),
    });
    // With git sync the checkout's folders are served.
    expect(c.workflowsDir).toBe(resolve(c.dataDir, 'git', 'workflows'));
    expect(c.actionsDir).toBe(resolve(c.dataDir, 'git', 'actions'));
  });

  it('reads the git commit URL template and webhook secret', () => {
    const c = loadConfig({
      BATON_GIT_REMOTE: 'file:///r.git',
      BATON_GIT_COMMIT_URL: 'https://github.com/o/r/commit/{sha}',
      BATON_GIT_WEBHOOK_SECRET: 's3cret',
    });
    expect(c.gitCommitUrl).toBe('https://github.com/o/r/commit/{sha}');
    expect(c.git?.webhookSecret).toBe('s3cret');
    expect(c.git?.intervalMs).toBe(60_000);
    expect(() => loadConfig({ BATON_GIT_COMMIT_URL: 'https://x/commit' })).toThrow(/BATON_GIT_COMMIT_URL/);
  });

  it('stops with one line naming the variable and the problem', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/^PORT: .*65535.*\(got "70000"\)$/);
    expect(() => loadConfig({ BATON_OUTPUT_LIMIT: 'lots' })).toThrow(
      'BATON_OUTPUT_LIMIT: "lots" is not a size',
    );
    expect(() => loadConfig({ BATON_LOG_LEVEL: 'loud' })).toThrow(/^BATON_LOG_LEVEL: /);
  });

  it('does not echo passwords in URL variables', () => {
    const db = errorOf({ DATABASE_URL: 'postgres://baton:hunter2@db:99999/x' });
    expect(db).toMatch(/^DATABASE_URL: /);
    expect(db).toContain('(got "postgres://baton:***@db:99999/x")');
    expect(db).not.toContain('hunter2');
    expect(errorOf({ REDIS_URL: 'redis://:s3cret/pw@cache:6379/ 0' })).not.toContain('s3cret');
    expect(maskUserinfo('postgres://baton:p@ss@db/x')).toBe('postgres://baton:***@db/x');
    expect(maskUserinfo('https://ghp_token@github.com/o/r.git')).toBe('https://***@github.com/o/r.git');
    expect(maskUserinfo('git@example.com:a/b.git')).toBe('git@example.com:a/b.git');
    expect(maskUserinfo('https://example.com/a@b')).toBe('https://example.com/a@b');
  });

  it('never echoes tokens, the master key or secrets', () => {
    for (const name of ['BATON_API_TOKENS', 'BATON_MASTER_KEY', 'BATON_SECRET_DEPLOY']) {
      expect(configProblem(name, '"sup3r-s3cret" is not valid', 'sup3r-s3cret')).toBe(
        `${name}: "***" is not valid`,
      );
    }
    expect(configProblem('BATON_OUTPUT_LIMIT', '"lots" is not a size', 'lots')).toBe(
      'BATON_OUTPUT_LIMIT: "lots" is not a size (got "lots")',
    );
    expect(configProblem('REDIS_URL', 'bad "redis://u:pw12@h"', 'redis://u:pw12@h')).toBe(
      'REDIS_URL: bad "redis://u:***@h" (got "redis://u:***@h")',
    );
  });

  it('validates BATON_HTTP_ALLOW entries, naming the bad one', () => {
    expect(loadConfig({ BATON_HTTP_ALLOW: '*.corp.internal, 10.0.0.0/8, api.local, ::1' }).httpAllow).toEqual(
      ['*.corp.internal', '10.0.0.0/8', 'api.local', '::1'],
    );
    expect(() => loadConfig({ BATON_HTTP_ALLOW: '127.0.0.1, 10.0.0.0/33' })).toThrow(ConfigError);
    expect(errorOf({ BATON_HTTP_ALLOW: '127.0.0.1, 10.0.0.0/33' })).toMatch(
      /^BATON_HTTP_ALLOW: "10\.0\.0\.0\/33" is not a host name/,
    );
    expect(errorOf({ BATON_HTTP_ALLOW: 'http://example.com' })).toContain('"http://example.com"');
  });

  it('reads CORS origins, normalized as browsers send them; none by default', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(
      loadConfig({ BATON_CORS_ORIGINS: 'https://App.Example.com/, http://localhost:5173, https://x.io:443' })
        .corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173', 'https://x.io']);
    for (const bad of ['*', 'https://a.com/path', 'a.com', 'ftp://a.com', 'https://u:p@a.com']) {
      expect(errorOf({ BATON_CORS_ORIGINS: `https://ok.com,${bad}` }), bad).toMatch(
        /^BATON_CORS_ORIGINS: ".*" is not an origin/,
      );
    }
  });

  it('makes the login cookie Secure unless Baton listens on loopback only', () => {
    expect(loadConfig({}).cookieSecure).toBe(false);
    expect(loadConfig({ HOST: 'localhost' }).cookieSecure).toBe(false);
    expect(loadConfig({ HOST: '::1' }).cookieSecure).toBe(false);
    expect(loadConfig({ BATON_API_TOKENS: 't' }).cookieSecure).toBe(true);
    expect(loadConfig({ HOST: '10.0.0.5' }).cookieSecure).toBe(true);
    expect(loadConfig({ BATON_API_TOKENS: 't', BATON_COOKIE_SECURE: 'false' }).cookieSecure).toBe(false);
    expect(loadConfig({ BATON_COOKIE_SECURE: '1' }).cookieSecure).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0', BATON_COOKIE_SECURE: 'off' }).cookieSecure).toBe(false);
    expect(errorOf({ BATON_COOKIE_SECURE: 'maybe' })).toMatch(/^BATON_COOKIE_SECURE: write true or false/);
  });

  it('prepares statements unless BATON_DB_PREPARE turns it off', () => {
    expect(loadConfig({}).dbPrepare).toBe(true);
    expect(loadConfig({ BATON_DB_PREPARE: 'false' }).dbPrepare).toBe(false);
    expect(loadConfig({ BATON_DB_PREPARE: 'on' }).dbPrepare).toBe(true);
    expect(errorOf({ BATON_DB_PREPARE: 'sometimes' })).toMatch(/^BATON_DB_PREPARE: write true or false/);
  });

  it('caps durations at what a timer can wait', () => {
    expect(loadConfig({ BATON_SHUTDOWN_GRACE: '24d' }).shutdownGraceMs).toBe(24 * 86_400_000);
    expect(errorOf({ BATON_GIT_REMOTE: 'git@x:a/b.git', BATON_GIT_INTERVAL: '30d' })).toBe(
      'BATON_GIT_INTERVAL: "30d" is too long; the most is 24d (got "30d")',
    );
  });
});

describe('formatDuration', () => {
  it('rounds before choosing units, so never 60.0s or 1m60s', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(999.7)).toBe('1.0s');
    expect(formatDuration(1234)).toBe('1.2s');
    expect(formatDuration(59_999)).toBe('1m00s');
    expect(formatDuration(184_000)).toBe('3m04s');
    expect(formatDuration(119_999)).toBe('2m00s');
  });

  it('prints hours', () => {
    expect(formatDuration(3_720_000)).toBe('1h02m');
    expect(formatDuration(3_599_999)).toBe('1h00m');
    expect(formatDuration(26 * 3_600_000 + 5 * 60_000)).toBe('26h05m');
  });
});

describe('secretsFromEnv', () => {
  it('takes BATON_SECRET_<NAME> variables', () => {
    expect(secretsFromEnv({ BATON_SECRET_TOKEN: 'x', OTHER: 'y' })).toEqual({ TOKEN: 'x' });
  });
});
