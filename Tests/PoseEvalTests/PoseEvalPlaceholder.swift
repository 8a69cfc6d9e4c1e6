// Tests of PoseEval arrive with the module.
