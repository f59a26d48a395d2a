/**
 * The schema's keys are documented where they are declared, as JSDoc comments (`/** ... *\/ key: z...`):
 * that is where a developer adding a key writes its meaning, and what an editor shows. zod keeps no
 * comments at run time, so the configuration reference reads them from the source with TypeScript's parser.
 *
 * Objects are told apart by their keys: every `z.strictObject({...})` / `z.object({...})` literal gives its
 * key list (in order) and the comment of each key; the schema walker (config-reference.ts) looks an object up by
 * the same list. Only used to write docs/configuration.md (and by its test): never loaded by the agent.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** `a,b,c` (an object's keys in order) → key → its comment */
export type CommentIndex = Map<string, Map<string, string>>;

/** The files whose schemas make up the configuration (see load.ts and sections.ts). */
export const SCHEMA_SOURCES = ['src/config/load.ts', 'src/config/schema.ts', 'src/kubernetes/config.ts', 'src/sinks/elasticsearch/config.ts'];

function commentText(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text || undefined;
}

function isObjectCall(node: ts.CallExpression): boolean {
  const callee = node.expression;
  return (
    ts.isPropertyAccessExpression(callee) &&
    ts.isIdentifier(callee.expression) &&
    callee.expression.text === 'z' &&
    ['strictObject', 'object'].includes(callee.name.text)
  );
}

export function indexComments(sources: ReadonlyArray<{ name: string; text: string }>): CommentIndex {
  const index: CommentIndex = new Map();
  for (const { name, text } of sources) {
    const file = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && isObjectCall(node) && node.arguments[0] && ts.isObjectLiteralExpression(node.arguments[0])) {
        const keys: string[] = [];
        const comments = new Map<string, string>();
        for (const property of node.arguments[0].properties) {
          if (!property.name || !(ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) continue;
          keys.push(property.name.text);
          const comment = commentText(property);
          if (comment !== undefined) comments.set(property.name.text, comment);
        }
        const id = keys.join(',');
        // The same key list twice: keep every comment found (they describe the same kind of object).
        index.set(id, new Map([...(index.get(id) ?? []), ...comments]));
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return index;
}

/** The comments of the configuration's schema files, read from the checkout at `root`. */
export function readSchemaComments(root: string): CommentIndex {
  return indexComments(SCHEMA_SOURCES.map((name) => ({ name, text: readFileSync(`${root}/${name}`, 'utf8') })));
}
