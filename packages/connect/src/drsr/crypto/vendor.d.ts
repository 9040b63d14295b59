/** des.js (Fedor Indutny): the DES block cipher in JavaScript; OpenSSL 3 keeps DES in its legacy provider. */
declare module 'des.js' {
  interface Cipher {
    update(data: Uint8Array | number[]): number[];
    final(): number[];
  }
  export const DES: { create(options: { type: 'encrypt' | 'decrypt'; key: Uint8Array | number[]; padding?: boolean }): Cipher };
}
