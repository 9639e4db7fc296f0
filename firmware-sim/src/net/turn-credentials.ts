/**
 * The lab hands out the same REST credentials as the gateway makes
 * (gateway/src/webrtc/turn-credentials.ts): the username is the expiry time
 * in Unix seconds and a name, the password base64(HMAC-SHA1(secret, username)).
 */
export {
  turnRestCredentials,
  type TurnCredentials,
} from "../../../gateway/src/webrtc/turn-credentials.js";
