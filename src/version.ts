/** This package's name and version (written into owner locks; re-exported as `version`). */
export const PACKAGE_NAME = 'heliosdb-nano';
export const version = '0.1.0';
