export { GgufError } from "./errors.js";
export {
  GgufValueType, type GgufKV, type GgufArray, type GgufTypedArray, valueTypeName, describeKVType,
} from "./value-types.js";
export { type GgufTensorInfo, type GgufHeader, parseHeader, GGUF_MAGIC, DEFAULT_ALIGNMENT, MAX_HEADER_BYTES } from "./parse.js";
export { GgufFile, type ByteSource, openGguf, parseGguf } from "./file.js";
export {
  GgufWriter, type GgufWriterOptions, type TensorData, type TensorDataSource, type WriteProgress, MAX_TENSOR_NAME_BYTES,
} from "./writer.js";
export { writerFromGguf } from "./rewrite.js";
