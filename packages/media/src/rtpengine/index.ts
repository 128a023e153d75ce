export { bdecode, bencode, type BencodeValue } from './bencode.ts';
export { isNgError, NgError, type NgErrorCode } from './errors.ts';
export { NgClient, type NgClientOptions, type NgDict } from './ng-client.ts';
