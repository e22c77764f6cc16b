/** The parts of pdfkit and svg-to-pdfkit (untyped packages) that figures/pdf.ts uses. */
declare module 'pdfkit' {
  interface PDFDocumentOptions {
    size: [number, number];
    margin: number;
    autoFirstPage: boolean;
    info: Record<string, string | Date>;
  }
  export default class PDFDocument {
    constructor(options: PDFDocumentOptions);
    registerFont(name: string, file: string): this;
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'end', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    end(): void;
  }
}

declare module 'svg-to-pdfkit' {
  import type PDFDocument from 'pdfkit';
  interface SvgToPdfOptions {
    assumePt?: boolean;
    fontCallback?: (family: string, bold: boolean, italic: boolean) => string;
    warningCallback?: (message: string) => void;
  }
  export default function SVGtoPDF(doc: PDFDocument, svg: string, x: number, y: number, options?: SvgToPdfOptions): void;
}
