"""Converts MediaPipe's BlazePose-Full landmark model (TFLite flatbuffer) into a self-describing
safetensors file for the Swift engine (docs/BLAZEPOSE.md).

The file holds every constant tensor as float32 (the fp16 weights dequantised exactly, as the
graph's own DEQUANTIZE ops do), named `w<tensor id>`, and three metadata entries:
  blazepose.config   {"family": "blazepose-full", "input": [256, 256, 3], outputs, source hashes}
  blazepose.graph    {"tensors": {id: shape}, "ops": [...], "inputs": [...], "outputs": {...}}
  license            the Apache-2.0 notice of the model
DEQUANTIZE ops are folded away; int32 operands (paddings, sizes, shapes) become op attributes.

Usage: python3 ops/models/blazepose_convert.py MODEL.tflite OUT.safetensors
Needs the `tflite` PyPI package (flatbuffer bindings) and numpy; ops/models/fetch_blazepose.sh
fetches the model and calls this.
"""
import hashlib
import json
import os
import sys

import numpy as np
import tflite

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import safetensors_io  # noqa: E402

FAMILY = "blazepose-full"
OUTPUT_NAMES = {"Identity": "landmarks", "Identity_1": "pose_flag", "Identity_2": "segmentation",
                "Identity_3": "heatmap", "Identity_4": "world_landmarks"}
LICENSE = ("BlazePose-Full landmark model (pose_landmark_full.tflite) from MediaPipe 0.10.21, "
           "Copyright 2020-2025 The MediaPipe Authors. Licensed under the Apache License, Version 2.0 "
           "(http://www.apache.org/licenses/LICENSE-2.0); distributed on an \"AS IS\" BASIS, WITHOUT "
           "WARRANTIES OR CONDITIONS OF ANY KIND. Converted to safetensors (fp16 weights widened to "
           "fp32, graph unchanged) by ops/models/blazepose_convert.py.")

OP_NAMES = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
ACTIVATIONS = {0: "none", 1: "relu", 3: "relu6"}
PADDINGS = {0: "same", 1: "valid"}
NUMPY_TYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16,
               tflite.TensorType.INT32: np.int32}


def activation(code, where):
    if code not in ACTIVATIONS:
        raise SystemExit(f"{where}: fused activation {code} is not supported")
    return ACTIVATIONS[code]


def convert(model_bytes):
    model = tflite.Model.GetRootAsModel(model_bytes, 0)
    if model.SubgraphsLength() != 1:
        raise SystemExit(f"expected one subgraph, got {model.SubgraphsLength()}")
    graph = model.Subgraphs(0)

    def constant(index):
        tensor = graph.Tensors(index)
        buffer = model.Buffers(tensor.Buffer())
        if buffer.DataLength() == 0:
            return None
        dtype = NUMPY_TYPES[tensor.Type()]
        shape = [int(s) for s in tensor.ShapeAsNumpy()] if tensor.ShapeLength() else []
        return np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype=dtype).reshape(shape)

    def shape(index):
        tensor = graph.Tensors(index)
        return [int(s) for s in tensor.ShapeAsNumpy()] if tensor.ShapeLength() else []

    weights, ops, shapes = {}, [], {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = OP_NAMES[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        inputs = [op.Inputs(j) for j in range(op.InputsLength())]
        output = op.Outputs(0)
        where = f"op {i} ({name})"
        options = op.BuiltinOptions()
        if name == "DEQUANTIZE":
            value = constant(inputs[0])
            if value is None:
                raise SystemExit(f"{where}: input is not a constant")
            weights[f"w{output}"] = value.astype(np.float32)  # fp16 -> fp32 is exact
            continue
        shapes[output] = shape(output)
        for t in inputs:
            if t >= 0 and f"w{t}" not in weights and constant(t) is None:
                shapes[t] = shape(t)

        def weight(t):
            if f"w{t}" not in weights:
                value = constant(t)
                if value is None:
                    raise SystemExit(f"{where}: operand {t} is not a constant")
                weights[f"w{t}"] = value.astype(np.float32)
            return f"w{t}"

        entry = {"output": f"t{output}"}
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            if name == "CONV_2D":
                o = tflite.Conv2DOptions()
            else:
                o = tflite.DepthwiseConv2DOptions()
            o.Init(options.Bytes, options.Pos)
            if o.DilationWFactor() != 1 or o.DilationHFactor() != 1:
                raise SystemExit(f"{where}: dilation is not supported")
            if o.StrideW() != o.StrideH():
                raise SystemExit(f"{where}: unequal strides are not supported")
            if name == "DEPTHWISE_CONV_2D" and o.DepthMultiplier() != 1:
                raise SystemExit(f"{where}: depth multiplier {o.DepthMultiplier()} is not supported")
            entry.update(op="conv2d" if name == "CONV_2D" else "depthwise_conv2d", input=f"t{inputs[0]}",
                         weight=weight(inputs[1]), bias=weight(inputs[2]), stride=o.StrideW(),
                         padding=PADDINGS[o.Padding()], activation=activation(o.FusedActivationFunction(), where))
        elif name == "ADD":
            o = tflite.AddOptions()
            o.Init(options.Bytes, options.Pos)
            entry.update(op="add", inputs=[f"t{inputs[0]}", f"t{inputs[1]}"],
                         activation=activation(o.FusedActivationFunction(), where))
        elif name == "PAD":
            entry.update(op="pad", input=f"t{inputs[0]}", paddings=constant(inputs[1]).tolist())
        elif name == "MAX_POOL_2D":
            o = tflite.Pool2DOptions()
            o.Init(options.Bytes, options.Pos)
            if o.FilterWidth() != o.FilterHeight() or o.StrideW() != o.StrideH():
                raise SystemExit(f"{where}: non-square pooling is not supported")
            entry.update(op="max_pool2d", input=f"t{inputs[0]}", size=o.FilterWidth(), stride=o.StrideW(),
                         padding=PADDINGS[o.Padding()], activation=activation(o.FusedActivationFunction(), where))
        elif name == "RESIZE_BILINEAR":
            o = tflite.ResizeBilinearOptions()
            o.Init(options.Bytes, options.Pos)
            if o.AlignCorners() or not o.HalfPixelCenters():
                raise SystemExit(f"{where}: only half-pixel centres without aligned corners are supported")
            entry.update(op="resize_bilinear", input=f"t{inputs[0]}", size=constant(inputs[1]).tolist())
        elif name == "LOGISTIC":
            entry.update(op="sigmoid", input=f"t{inputs[0]}")
        elif name == "RESHAPE":
            entry.update(op="reshape", input=f"t{inputs[0]}")
        else:
            raise SystemExit(f"{where}: operator {name} is not supported")
        ops.append(entry)

    inputs = [f"t{graph.Inputs(i)}" for i in range(graph.InputsLength())]
    for i in range(graph.InputsLength()):
        shapes[graph.Inputs(i)] = shape(graph.Inputs(i))
    outputs = {}
    for i in range(graph.OutputsLength()):
        t = graph.Outputs(i)
        outputs[OUTPUT_NAMES.get(graph.Tensors(t).Name().decode(), graph.Tensors(t).Name().decode())] = f"t{t}"
    description = {"inputs": inputs, "outputs": outputs, "ops": ops,
                   "tensors": {f"t{k}": v for k, v in sorted(shapes.items())}}
    return weights, description


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, target = sys.argv[1], sys.argv[2]
    data = open(source, "rb").read()
    weights, description = convert(data)
    config = {"family": FAMILY, "input": [256, 256, 3], "landmarks": 33,
              "source": "mediapipe==0.10.21 mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
              "source_sha256": hashlib.sha256(data).hexdigest()}
    metadata = {"blazepose.config": json.dumps(config, sort_keys=True, separators=(",", ":")),
                "blazepose.graph": json.dumps(description, sort_keys=True, separators=(",", ":")),
                "license": LICENSE}
    temporary = target + ".tmp"
    safetensors_io.save(temporary, weights, metadata)
    os.replace(temporary, target)
    print(f"{target}: {len(description['ops'])} ops, {len(weights)} weight tensors, "
          f"{sum(w.size for w in weights.values())} parameters")


if __name__ == "__main__":
    main()
