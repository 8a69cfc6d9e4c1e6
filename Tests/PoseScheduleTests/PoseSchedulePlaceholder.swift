// Tests of PoseSchedule arrive with the module.
