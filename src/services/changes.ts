// The change bus is a port (storage fans it out across nodes); its users import it from here.
export {
  LocalChangeBus,
  type ChangeBus,
  type ChangeListener,
  type WorkspaceChange,
} from './ports/changes.js';
