/** qrcode-terminal 0.12.0 ships no types; the one call camgw makes (lib/main.js). */
declare module "qrcode-terminal" {
  interface QrcodeTerminal {
    /** Draws `input` as a QR code (error correction L); `small` uses half blocks, no colours. */
    generate(input: string, options: { small?: boolean }, callback: (qr: string) => void): void;
  }
  const qrcode: QrcodeTerminal;
  export default qrcode;
}
