/**
 * What a new cloud password must be (NIST SP 800-63B): long enough, not the
 * old one, not the user's own name. No composition rules, no expiry.
 */
export const minimumPasswordLength = 12;

const common = new Set(['password1234', 'passwordpassword', '123456789012', 'qwertyuiopas', 'letmein12345', 'welcome12345', 'changeme1234']);

export function checkNewPassword(next: string, o: { current: string; upn: string; displayName: string | null }): string | null {
  if ([...next].length < minimumPasswordLength) return `Use at least ${minimumPasswordLength} characters.`;
  if ([...next].length > 256) return 'Use at most 256 characters.';
  if (next === o.current) return 'Choose a password other than the current one.';
  const lower = next.toLowerCase();
  const local = o.upn.split('@')[0]!.toLowerCase();
  if ((local.length >= 4 && lower.includes(local)) || (o.displayName && o.displayName.length >= 4 && lower.includes(o.displayName.toLowerCase()))) return 'Do not use your own name in your password.';
  if (common.has(lower) || /^(.)\1+$/.test(next)) return 'That password is too easy to guess: choose another.';
  return null;
}
