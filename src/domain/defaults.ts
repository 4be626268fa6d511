/** What every new workspace starts with, as Twilio does it. */
export const DEFAULT_ACTIVITIES = [
  { friendlyName: 'Offline', available: false },
  { friendlyName: 'Available', available: true },
  { friendlyName: 'Unavailable', available: false },
] as const;

/** The default and timeout activity of a new workspace. */
export const DEFAULT_ACTIVITY_NAME = 'Offline';

export const DEFAULT_TASK_CHANNELS = [
  { uniqueName: 'default', friendlyName: 'Default' },
  { uniqueName: 'voice', friendlyName: 'Voice' },
  { uniqueName: 'sms', friendlyName: 'SMS' },
  { uniqueName: 'video', friendlyName: 'Video' },
  { uniqueName: 'chat', friendlyName: 'Chat' },
] as const;

export const DEFAULT_WORKER_CHANNEL = { capacity: 1, available: true } as const;

/** Twilio's own limits, which Roster enforces unless a setting lifts them (ROSTER_TWILIO_LIMITS=off). */
export interface TwilioLimits {
  activitiesPerWorkspace: number;
  taskChannelsPerWorkspace: number;
  workerChannelCapacity: number;
}

export const TWILIO_LIMITS: TwilioLimits = {
  activitiesPerWorkspace: 100,
  taskChannelsPerWorkspace: 15,
  workerChannelCapacity: 50,
};
