// Tests of PoseMedia arrive with the module.
