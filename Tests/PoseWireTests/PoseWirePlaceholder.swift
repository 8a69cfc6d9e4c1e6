// Tests of PoseWire arrive with the module.
