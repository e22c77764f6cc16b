// Types of build.js (plain JavaScript: the bin runs it before anything is compiled).
export declare const PACKAGE_ROOT: string;
/** Build entries: dist/<name>.js from pipeline/<file>. */
export declare const ENTRIES: Record<string, string>;
export declare function buildIsCurrent(root?: string): boolean;
export declare function build(root?: string): Promise<void>;
export declare function ensureBuild(root?: string): Promise<boolean>;
export declare function cliUrl(root?: string): string;
