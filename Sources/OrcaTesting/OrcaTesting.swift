// OrcaTesting module
