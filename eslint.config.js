import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layering (STYLE.md): dependencies point down only, http → services → domain; storage
 * implements the ports that services define (src/services/ports) and knows nothing else of
 * them; only config.ts reads the environment and it knows no backend. An import that points
 * up fails the lint.
 */
const up = {
  services: '(^|/)services/',
  storage: '(^|/)storage/',
  http: '(^|/)http/',
  twilio: '(^|/)twilio/',
  live: '(^|/)live/',
  cli: '(^|/)cli/',
  config: '(^|/)config\\.js$',
  app: '(^|/)app\\.js$',
};
const forbidden = {
  domain: [up.services, '(^|/)timers/', up.storage, up.http, up.twilio, up.live, up.cli, up.config, up.app],
  services: [up.storage, up.http, up.twilio, up.live, up.cli, up.config, up.app],
  timers: [up.storage, up.http, up.twilio, up.live, up.cli, up.config, up.app],
  // Storage implements the services' ports, and that is all it may know of them.
  storage: [
    '(^|/)services/(?!ports/)',
    '(^|/)timers/',
    up.http,
    up.twilio,
    up.live,
    up.cli,
    up.config,
    up.app,
  ],
  twilio: [up.storage, up.http, up.live, up.cli, up.app],
  http: [up.storage, up.cli],
  live: [up.storage, up.cli],
  config: [up.storage, up.services, up.http, up.twilio, up.live, up.cli],
};

const layering = Object.entries(forbidden).map(([folder, regexes]) => ({
  files: folder === 'config' ? ['src/config.ts'] : [`src/${folder}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: regexes.map((regex) => ({
          regex,
          message: `src/${folder} may not import this (STYLE.md: dependencies point down only).`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'bin/', '.bench/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layering,
);
