// The pipeline's old import path for the contract types, kept so its modules need not
// move: the types live in the @natatlas/bias workspace package (src/types.ts). Not published.
export type * from '@natatlas/bias';
