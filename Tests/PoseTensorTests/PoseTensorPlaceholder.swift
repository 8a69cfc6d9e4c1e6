// Tests of PoseTensor arrive with the module.
