import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, secretsFromEnv } from '../../src/config.ts';

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
    expect(c.git).toEqual({ remote: 'git@example.com:a/b.git', branch: undefined, intervalMs: 30_000 });
  });

  it('stops with one line naming the variable and the problem', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/^PORT: .*65535.*\(got "70000"\)$/);
    expect(() => loadConfig({ BATON_OUTPUT_LIMIT: 'lots' })).toThrow(
      'BATON_OUTPUT_LIMIT: "lots" is not a size',
    );
    expect(() => loadConfig({ BATON_LOG_LEVEL: 'loud' })).toThrow(/^BATON_LOG_LEVEL: /);
  });
});

describe('secretsFromEnv', () => {
  it('takes BATON_SECRET_<NAME> variables', () => {
    expect(secretsFromEnv({ BATON_SECRET_TOKEN: 'x', OTHER: 'y' })).toEqual({ TOKEN: 'x' });
  });
});
