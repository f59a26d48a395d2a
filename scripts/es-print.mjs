// What `npm run es` prints, for people and for logs (CI, a file): plain text, never a raw escape sequence.
// Maven 3.8 writes ESC[0m even in batch mode (-B), and an error can quote Maven's or the JVM's output.

// CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, then any other
// control character except tab and newline.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` without terminal escape sequences or control characters (tabs and newlines kept). */
export function plainText(text) {
  return String(text).replace(ESCAPES, '');
}

/** One line on `stream` (stderr by default), as plain text. */
export function say(text, stream = process.stderr) {
  stream.write(plainText(text) + '\n');
}
