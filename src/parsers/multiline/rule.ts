/**
 * The contract between the multiline group and a rule (built-in detector or custom expressions): given
 * the group held so far, does the next line join it?
 */

/** What a rule says about a line, given the held group. */
export const Verdict = {
  /** the line does not belong to the held group */
  NEW: 0,
  /** the line joins the held group */
  JOIN: 1,
  /** undecided (a blank line inside or after a trace): kept aside, joined only if the next line joins */
  MAYBE: 2,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** What a rule sees of the group it is asked about; `state` is the rule's own (0 when a group begins). */
export interface GroupState {
  readonly firstLine: string;
  readonly lastLine: string;
  readonly lines: number;
  state: number;
}

export interface MultilineRule {
  /**
   * May this line begin a group that later lines join? When false, the line is released at once instead
   * of being held until the next line shows whether it continues.
   */
  starts(line: string): boolean;
  /** Does `line` join the group? May update `group.state`. */
  continues(line: string, group: GroupState): Verdict;
  /**
   * May a later line still join the group? When false, an idle stream's group is released without
   * waiting for the flush timeout (an ordinary last line is not held for a second). Default: true.
   */
  waits?(group: GroupState): boolean;
}
