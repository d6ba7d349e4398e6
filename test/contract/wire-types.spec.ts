import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The type check of the wire fixtures. Jest compiles each file alone and checks no types, so this
 * spec runs the compiler itself, with the project's options, on the files that hold a fixture
 * against a library type: `kugelpos-wire.ts` (each fixture `conform`s to its document type) and
 * the sample's transaction-list mapping (it builds `TransactionDocument`s). A fixture that drifts
 * from its type, or a type that drifts from the fixtures, is a diagnostic here.
 */
const CHECKED = ['test/contract/kugelpos-wire.ts', 'sample-app/cart/transaction-document.ts'];

function diagnosticsOf(files: string[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.json could not be read');
  const program = ts.createProgram(
    files.map((f) => path.join(ROOT, f)),
    // Only node's types: the checked files use no test globals, and a smaller program is quicker.
    { ...config.options, noEmit: true, types: ['node'] },
  );
  return ts.getPreEmitDiagnostics(program).map((d) =>
    ts.formatDiagnostic(d, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => '\n',
    }),
  );
}

describe('wire fixtures: exactly the library types (a compile of the files that hold them)', () => {
  it('has no type errors', () => {
    expect(diagnosticsOf(CHECKED)).toEqual([]);
  });
});
