// Public surface of the partition layer (what src/machine and src/debugAdapter import).
export * from './hvdef';
export * from './exitContext';
export * from './registerValue';
export { Partition, DEFAULT_INSTRUCTION_BUDGET } from './partition';
export type { PartitionOptions, ExtendedVmExits, RunOptions, VpRegistersResult, PendingAccess, CpuFactory } from './partition';
export { VirtualProcessor, type EoiSource } from './virtualProcessor';
export { REGISTER_TABLE, registerRow, type RegisterRow, type RegisterGroup } from './registers';
export { whvSegment, type WhvSegmentRegister } from './segment';
export { HYPERCALL_PAGE_CODE, type CpuidResult } from './synthetic';
export * from './interceptMessage';
export * from './exitDescription';
