// Lint rules, including the layering rule of the architecture: each layer may import only
// the layers below it (emulator <- partition <- machine <- debugAdapter <- extension).
import tseslint from 'typescript-eslint';

const layers = ['emulator', 'partition', 'machine', 'debugAdapter', 'cli', 'languageServer', 'extension'];
// What each layer must not import.
const forbidden = {
  emulator: ['partition', 'machine', 'debugAdapter', 'cli', 'languageServer', 'extension'],
  partition: ['machine', 'debugAdapter', 'cli', 'languageServer', 'extension'],
  machine: ['debugAdapter', 'cli', 'languageServer', 'extension'],
  debugAdapter: ['cli', 'languageServer', 'extension'],
  cli: ['debugAdapter', 'languageServer', 'extension'],
  languageServer: ['debugAdapter', 'cli', 'extension', 'partition', 'machine'],
  extension: ['cli'],
};

const layerRules = layers.map((layer) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      paths: layer === 'extension' ? [] : [{ name: 'vscode', message: 'only src/extension may use the vscode API' }],
      patterns: forbidden[layer].map((up) => ({
        group: [`**/${up}`, `**/${up}/**`],
        message: `src/${layer} must not import src/${up} (layers depend downward only)`,
      })),
    }],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test/e2e/.work/**', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerRules,
);
