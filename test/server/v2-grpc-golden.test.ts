/**
 * Pins the gRPC .proto with hand-made protobuf bytes (written from the wire format: tag =
 * field number << 3 | wire type), decoded by protobufjs and by the very (de)serializers the
 * server uses, so server and client cannot agree on a wrong field number or type.
 */
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { LOADER_OPTIONS, PROTO_PATH } from '../../server/v2/grpc-messages.js';

const ascii = (s: string) => [...Buffer.from(s, 'ascii')];
/** A length-delimited field: tag, length, bytes. */
const ld = (field: number, bytes: number[]) => [(field << 3) | 2, bytes.length, ...bytes];

// ModelInferRequest { model_name "m", model_version "1", id "x", parameters {"max_exit": int64_param 2},
//   inputs [{ name "image_bytes", datatype "BYTES", shape [1], contents { bytes_contents [0xab 0xcd] } }],
//   outputs [{ name "exit" }], raw_input_contents [0x01 0x02] }
const REQUEST = Buffer.from([
  ...ld(1, ascii('m')),
  ...ld(2, ascii('1')),
  ...ld(3, ascii('x')),
  ...ld(4, [...ld(1, ascii('max_exit')), ...ld(2, [(2 << 3) | 0, 2])]),
  ...ld(5, [...ld(1, ascii('image_bytes')), ...ld(2, ascii('BYTES')), ...ld(3, [1]), ...ld(5, ld(8, [0xab, 0xcd]))]),
  ...ld(6, ld(1, ascii('exit'))),
  ...ld(7, [1, 2]),
]);

// ModelStreamInferResponse { infer_response { model_name "m", outputs [{ name "exit", datatype "INT32",
//   shape [1] }], raw_output_contents [01 00 00 00] } } (empty strings and maps are not written in proto3).
const STREAM_RESPONSE = Buffer.from(ld(2, [...ld(1, ascii('m')), ...ld(5, [...ld(1, ascii('exit')), ...ld(2, ascii('INT32')), ...ld(3, [1])]), ...ld(6, [1, 0, 0, 0])]));

describe('gRPC .proto golden bytes', () => {
  it('protobufjs decodes a hand-made ModelInferRequest field by field', () => {
    const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
    const msg = root.lookupType('inference.ModelInferRequest').decode(REQUEST).toJSON();
    expect(msg).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'x',
      parameters: { max_exit: { int64_param: '2' } },
      inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: ['1'], contents: { bytes_contents: [Buffer.from([0xab, 0xcd]).toString('base64')] } }],
      outputs: [{ name: 'exit' }],
      raw_input_contents: [Buffer.from([1, 2]).toString('base64')],
    });
  });

  it("the server's own (de)serializers read the request and write the stream response byte for byte", () => {
    const pkg = protoLoader.loadSync(PROTO_PATH, { ...LOADER_OPTIONS });
    const service = pkg['inference.GRPCInferenceService'] as protoLoader.ServiceDefinition;
    const req = service.ModelInfer!.requestDeserialize(REQUEST) as { parameters: Record<string, unknown>; inputs: Array<{ shape: number[]; contents: { bytes_contents: Buffer[] } }> };
    expect(req.parameters.max_exit).toMatchObject({ parameter_choice: 'int64_param', int64_param: 2 });
    expect(req.inputs[0]!.shape).toEqual([1]);
    expect([...req.inputs[0]!.contents.bytes_contents[0]!]).toEqual([0xab, 0xcd]);
    expect(service.ModelStreamInfer!.requestDeserialize(REQUEST)).toEqual(req);
    const written = service.ModelStreamInfer!.responseSerialize({ infer_response: { model_name: 'm', outputs: [{ name: 'exit', datatype: 'INT32', shape: [1] }], raw_output_contents: [Buffer.from([1, 0, 0, 0])] } });
    expect([...written]).toEqual([...STREAM_RESPONSE]);
    expect([...service.ServerLive!.responseSerialize({ live: true })]).toEqual([0x08, 0x01]);
    expect([...service.ServerMetadata!.responseSerialize({ name: 'a', version: 'b', extensions: ['c'] })]).toEqual([...ld(1, ascii('a')), ...ld(2, ascii('b')), ...ld(3, ascii('c'))]);
  });
});
