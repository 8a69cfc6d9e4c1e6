// Tests of SafeTensors arrive with the module.
