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
export {
  summarizeGguf, tensorRows, formatGgufInfo, ggufInfoJson, formatBytes, kvToJson,
  type GgufSummary, type TypeStats, type TensorRow,
} from "./info.js";
export { ProgressBar, type ProgressStream } from "./progress.js";
export {
  FTYPE, QUANT_TARGETS, parseQuantTarget, planQuantization, isQuantizable, llamaTensorOrder,
  type QuantTarget, type ModelHparams, type PlanEntry,
} from "./quant-plan.js";
export { quantizeGguf, quantizedWriter, hparamsFromGguf, type QuantizeOptions, type QuantizeResult } from "./quantize.js";
export { FAST_QUANT_MIN_PARAMS, synthModel, type SynthOptions, type SynthResult } from "./synth/synth.js";
export {
  PRESETS, resolveConfig, kimiMlaLayers, type SynthArch, type SynthConfig, type KimiConfig, type QwenConfig,
} from "./synth/config.js";
export { synthVocab, byteToUnicode, TOKEN_TYPE, type SynthVocab } from "./synth/vocab.js";
export { modelTensors, modelKVs, type TensorSpec, type Init } from "./synth/model-spec.js";
