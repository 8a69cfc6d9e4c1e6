// Tests of PoseCrypto arrive with the module.
