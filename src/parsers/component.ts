/**
 * Kubernetes component formats, for callers outside the file pipeline (the journald source lifts glog
 * headers from journal messages). The parsers themselves live in ./glog.ts and ./logrus.ts.
 */
export { isGlogHeader, parseGlogLine, parseKlogStructured, type GlogLine as ComponentLine } from './glog.js';
export { parseLogrusLine, type LogrusLine } from './logrus.js';
