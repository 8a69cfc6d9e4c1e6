// Tests of FTPPose arrive with the module.
