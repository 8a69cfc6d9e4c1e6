// Tests of PoseCluster arrive with the module.
