// Tests of PoseArchive arrive with the module.
