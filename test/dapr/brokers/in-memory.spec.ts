import { brokerMatrix } from './matrix';

brokerMatrix('in-memory');
