// The pipeline's old import path for the validator, kept so its modules need not move:
// it lives in the @natatlas/bias workspace package (src/validate.ts). Not published.
export { BIAS_SCHEMA_FILE, validateBiasTable } from '@natatlas/bias';
