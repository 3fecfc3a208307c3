import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRandomValues } from 'node:crypto';
import fc from 'fast-check';
import { ConfigError } from '../../../core/errors.js';
import { expandMessageXmd, hashToRistretto255, loadSodium, PSI_DST, Xmd64 } from './hash-to-group.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replaceAll(' ', ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'ascii'));

// RFC 9380 Appendix K.3: expand_message_xmd(SHA-512), DST = QUUX-V01-CS02-with-expander-SHA512-256.
const K3_DST = 'QUUX-V01-CS02-with-expander-SHA512-256';
const K3_MSGS = ['', 'abc', 'abcdef0123456789', 'q128_' + 'q'.repeat(128), 'a512_' + 'a'.repeat(512)];
const K3_32 = [
  '6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba',
  '0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc',
  '087e45a86e2939ee8b91100af1583c4938e0f5fc6c9db4b107b83346bc967f58',
  '7336234ee9983902440f6bc35b348352013becd88938d2afec44311caf8356b3',
  '57b5f7e766d5be68a6bfe1768e3c2b7f1228b3e4b3134956dd73a59b954c66f4',
];
const K3_128 = [
  '41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921b052b62eaed99b46f72f2ef4cc96bfaf254ebbbec091e1a3b9e4fb5e5b619d2e0c5414800a1d882b62bb5cd1778f098b8eb6cb399d5d9d18f5d5842cf5d13d7eb00a7cff859b605da678b318bd0e65ebff70bec88c753b159a805d2c89c55961',
  '7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11bdd7732d8b38adb4a0edc26a0cef4bb45217135456e58fbca1703cd6032cb1347ee720b87972d63fbf232587043ed2901bce7f22610c0419751c065922b488431851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1',
  '3f721f208e6199fe903545abc26c837ce59ac6fa45733f1baaf0222f8b7acb0424814fcb5eecf6c1d38f06e9d0a6ccfbf85ae612ab8735dfdf9ce84c372a77c8f9e1c1e952c3a61b7567dd0693016af51d2745822663d0c2367e3f4f0bed827feecc2aaf98c949b5ed0d35c3f1023d64ad1407924288d366ea159f46287e61ac',
  'b799b045a58c8d2b4334cf54b78260b45eec544f9f2fb5bd12fb603eaee70db7317bf807c406e26373922b7b8920fa29142703dd52bdf280084fb7ef69da78afdf80b3586395b433dc66cde048a258e476a561e9deba7060af40adf30c64249ca7ddea79806ee5beb9a1422949471d267b21bc88e688e4014087a0b592b695ed',
  '05b0bfef265dcee87654372777b7c44177e2ae4c13a27f103340d9cd11c86cb2426ffcad5bd964080c2aee97f03be1ca18e30a1f14e27bc11ebbd650f305269cc9fb1db08bf90bfc79b42a952b46daf810359e7bc36452684784a64952c343c52e5124cd1f71d474d5197fefc571a92929c9084ffe1112cf5eea5192ebff330b',
];

// RFC 9496 Appendix A.3: ristretto255 element derivation from 64 uniform bytes (hash-to-group).
const A3 = [
  ['5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c14d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6', '3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46'],
  ['f116b34b8f17ceb56e8732a60d913dd10cce47a6d53bee9204be8b44f6678b270102a56902e2488c46120e9276cfe54638286b9e4b3cdb470b542d46c2068d38', 'f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b'],
  ['8422e1bbdaab52938b81fd602effb6f89110e1e57208ad12d9ad767e2e25510c27140775f9337088b982d83d7fcf0b2fa1edffe51952cbe7365e95c86eaf325c', '006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826'],
  ['ac22415129b61427bf464e17baee8db65940c233b98afce8d17c57beeb7876c2150d15af1cb1fb824bbd14955f2b57d08d388aab431a391cfc33d5bafb5dbbaf', 'f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a'],
  ['165d697a1ef3d5cf3c38565beefcf88c0f282b8e7dbd28544c483432f1cec7675debea8ebb4e5fe7d6f6e5db15f15587ac4d4d4a1de7191e0c1ca6664abcc413', 'ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179'],
  ['a836e6c9a9ca9f1e8d486273ad56a78c70cf18f0ce10abb1c7172ddd605d7fd2979854f47ae1ccf204a33102095b4200e5befc0465accc263175485f0e17ea5c', 'e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628'],
  ['2cdc11eaeb95daf01189417cdddbf95952993aa9cb9c640eb5058d09702c74622c9965a697a3b345ec24ee56335b556e677b30e6f90ac77d781064f866a3c982', '80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065'],
  // Non-canonical field encodings that must map to the same element.
  ['edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1200000000000000000000000000000000000000000000000000000000000000', '304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f'],
  ['edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', '304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f'],
  ['0000000000000000000000000000000000000000000000000000000000000080ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', '304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f'],
  ['00000000000000000000000000000000000000000000000000000000000000001200000000000000000000000000000000000000000000000000000000000080', '304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f'],
] as const;

test('expand_message_xmd(SHA-512) reproduces every RFC 9380 Appendix K.3 vector (32 and 128 bytes)', () => {
  K3_MSGS.forEach((msg, i) => {
    assert.equal(toHex(expandMessageXmd(ascii(msg), K3_DST, 0x20)), K3_32[i], `msg ${JSON.stringify(msg.slice(0, 8))}, 32 bytes`);
    assert.equal(toHex(expandMessageXmd(ascii(msg), K3_DST, 0x80)), K3_128[i], `msg ${JSON.stringify(msg.slice(0, 8))}, 128 bytes`);
  });
});

test('the reusable 64-byte expander equals expand_message_xmd for any message, short or long', () => {
  const xmd = new Xmd64(K3_DST);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(20), (msg, pad) => {
      // The message sits inside a larger buffer, as it does in a packed batch.
      const host = new Uint8Array(pad + msg.length + 3);
      host.set(msg, pad);
      assert.deepEqual(xmd.expand(host, pad, pad + msg.length), expandMessageXmd(msg, K3_DST, 64));
    }),
    { numRuns: 200 },
  );
});

test('expand_message_xmd refuses an empty or over-long DST and an impossible output length', () => {
  assert.throws(() => expandMessageXmd(new Uint8Array(0), '', 32), ConfigError);
  assert.throws(() => expandMessageXmd(new Uint8Array(0), 'x'.repeat(256), 32), ConfigError);
  assert.throws(() => expandMessageXmd(new Uint8Array(0), K3_DST, 0), ConfigError);
  assert.throws(() => expandMessageXmd(new Uint8Array(0), K3_DST, 255 * 64 + 1), ConfigError);
  assert.throws(() => new Xmd64(''), ConfigError);
});

test('libsodium from_hash reproduces the RFC 9496 Appendix A.3 hash-to-group vectors', async () => {
  const na = await loadSodium();
  for (const [input, output] of A3) assert.equal(toHex(na.crypto_core_ristretto255_from_hash(hex(input))), output, input.slice(0, 16));
});

test('hash_to_ristretto255 reproduces RFC 9497 Appendix A.1.1.1 (OPRF ristretto255-SHA512 blinded elements)', async () => {
  // BlindedElement = blind · HashToGroup(input), HashToGroup = hash_to_ristretto255 with DST
  // "HashToGroup-" ‖ contextString, contextString = "OPRFV1-" ‖ I2OSP(0, 1) ‖ "-ristretto255-SHA512".
  const na = await loadSodium();
  const dst = Buffer.concat([Buffer.from('HashToGroup-OPRFV1-'), Buffer.from([0]), Buffer.from('-ristretto255-SHA512')]);
  const blind = hex('64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706');
  const cases = [
    ['00', '609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c'],
    ['5a'.repeat(17), 'da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418'],
  ] as const;
  for (const [input, blinded] of cases) {
    const element = hashToRistretto255(na, hex(input), dst);
    assert.equal(toHex(na.crypto_scalarmult_ristretto255(blind, element)), blinded, `input ${input.slice(0, 4)}`);
  }
});

test('the PSI hash separates domains: same message, other DST gives another element', async () => {
  const na = await loadSodium();
  const msg = getRandomValues(new Uint8Array(24));
  assert.notDeepEqual(hashToRistretto255(na, msg), hashToRistretto255(na, msg, PSI_DST.replace('V01', 'V02')));
  assert.deepEqual(hashToRistretto255(na, msg), hashToRistretto255(na, msg, PSI_DST));
});
